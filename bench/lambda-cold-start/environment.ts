import { ApiEnvironment } from '../../lambdas/handlers/config.js';

/** A placeholder that passes the API config's checks for each of its variables. */
function placeholder(variable: string): string {
  if (variable === 'AWS_REGION') return 'eu-west-1';
  if (variable === 'ADCLICK_REDIS_URL') return 'redis://127.0.0.1:6379';
  if (variable === 'ADCLICK_PSEUDONYMISATION_SECRET_ARN') {
    return 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:adclick-pseudonymisation-AbCdEf';
  }
  return `adclick-bench-${variable
    .toLowerCase()
    .replace(/^adclick_/, '')
    .replace(/_/g, '-')}`;
}

/**
 * The environment of a cold-start child: what the Lambda runtime sets that a library might read at
 * import, fake credentials (so no SDK reaches for a credential provider), and the API function's
 * variables. Handlers parse their configuration at the first invoke, so an import needs none of
 * them; they are set so that a handler that did read them at import is measured, not failed.
 * Nothing is inherited from this process (in particular no NODE_OPTIONS of a TypeScript loader).
 */
export function lambdaLikeEnvironment(taskRoot: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: 'adclick-cold-start-bench',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'bench-session-token',
    POWERTOOLS_METRICS_NAMESPACE: 'adclick-bench',
  };
  for (const variable of Object.keys(ApiEnvironment.shape)) env[variable] = placeholder(variable);
  return env;
}
