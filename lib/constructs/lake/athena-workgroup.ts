/**
 * The stage's Athena workgroup and the shared SQL as named queries. The configuration is enforced,
 * so a client cannot send results elsewhere, unencrypted, or scan past the cutoff; the runtime's
 * AthenaQueryRunner passes no output location and relies on that.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Results live under this prefix of the results bucket (whose lifecycle expires them). */
export const ATHENA_RESULTS_PREFIX = 'results/';

export interface SqlFolder {
  /** Folder of `.sql` files; each becomes a named query. */
  readonly dir: string;
  /** Names the queries `<label>/<file name without .sql>`. */
  readonly label: string;
}

export interface AthenaWorkgroupProps {
  readonly name: string;
  readonly databaseName: string;
  readonly resultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly bytesScannedCutoffPerQuery: number;
  readonly sqlFolders: readonly SqlFolder[];
  /** Dev: deleting the stack deletes the workgroup with its saved queries and history. */
  readonly recursiveDelete: boolean;
}

/** The `.sql` files of a folder, sorted, with their text. */
export function sqlFilesOf(dir: string): { name: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ name: basename(f, '.sql'), text: readFileSync(join(dir, f), 'utf8') }));
}

export class AthenaWorkgroup extends Construct {
  readonly workgroup: athena.CfnWorkGroup;
  readonly namedQueries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: AthenaWorkgroupProps) {
    super(scope, id);
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.name,
      description: 'adclick analytics and training-set queries over the lake',
      state: 'ENABLED',
      recursiveDeleteOption: props.recursiveDelete,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.resultsBucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
    for (const folder of props.sqlFolders) {
      for (const file of sqlFilesOf(folder.dir)) {
        const query = new athena.CfnNamedQuery(this, `${folder.label}-${file.name}`, {
          name: `${folder.label}/${file.name}`,
          description: `sql/${folder.label}/${file.name}.sql (positional ? parameters: see the file's header)`,
          database: props.databaseName,
          workGroup: this.workgroup.ref,
          queryString: file.text,
        });
        this.namedQueries.push(query);
      }
    }
  }
}
