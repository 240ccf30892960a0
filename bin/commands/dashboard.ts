/**
 * `adclick dashboard --api URL`: the dashboard page served on this machine's loopback, its API
 * calls signed with the caller's AWS credentials (the default provider chain: environment,
 * profile, SSO, container or instance role) and forwarded to a deployed API.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { type Command, InvalidArgumentError } from 'commander';
import { loadDashboard } from '../../lambdas/server/dashboard-assets.js';
import { parseApiBase, regionOfApi, startDashboardProxy } from './dashboard-proxy.js';

export const DEFAULT_DASHBOARD_PORT = 3001;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535)
    throw new InvalidArgumentError('expected a port, 0-65535 (0 picks a free one)');
  return n;
}

export function defineDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .summary('serve the dashboard locally for a deployed API, signing its calls with your AWS credentials')
    .description(
      [
        'Serve the dashboard on 127.0.0.1 for a deployed API (whose admin routes take IAM): every API call the page makes is forwarded to --api, signed with SigV4 with your AWS credentials (the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, a role). Only the calls the page makes are forwarded, only to --api, and only from the page itself.',
        'For the local server, open http://127.0.0.1:3000/ instead.',
      ].join('\n\n'),
    )
    .requiredOption(
      '--api <url>',
      'base URL of the deployed API, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
    )
    .option('--port <port>', `local port (0 picks a free one)`, port, DEFAULT_DASHBOARD_PORT)
    .option('--region <region>', "the API's region (default: from an execute-api URL, else AWS_REGION)")
    .action(async (options: { api: string; port: number; region?: string }) => {
      const api = parseApiBase(options.api);
      const region = options.region ?? regionOfApi(api) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (!region) throw new Error('no region: pass --region or set AWS_REGION');
      const credentials = defaultProvider();
      // Fail now, with the chain's own reason, rather than at the page's first call.
      await credentials().catch((err: Error) => {
        throw new Error(`no AWS credentials to sign with: ${err.message}`);
      });
      const proxy = await startDashboardProxy({
        api: api.href,
        port: options.port,
        region,
        credentials,
        bundle: await loadDashboard(),
      });
      process.stderr.write(`adclick dashboard on ${proxy.url}/ for ${api.href} (SigV4, ${region})\n`);
      const stop = () => void proxy.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
