/**
 * A Glue table generated from a lake table's definition (LAKE_TABLES): the same columns in the
 * same order, Parquet storage, and partition projection on `dt`/`hour`, so that Athena finds a
 * partition the moment Firehose writes it (no crawler, no MSCK REPAIR).
 */
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { LakeColumnType, LakeTable } from '../../../lambdas/core/lake/tables.js';
import { tablePrefix } from './layout.js';

/** The Glue (Hive) type of each lake column type; Firehose converts JSON to Parquet by these. */
export const GLUE_COLUMN_TYPES: Readonly<Record<LakeColumnType, string>> = {
  string: 'string',
  int64: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
};

/** The hour partition's values: text, two digits, as `partitionOf` writes them locally. */
export const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

export interface LakeGlueTableProps {
  readonly table: LakeTable;
  readonly databaseName: string;
  readonly bucket: s3.IBucket;
  /** Days back from today that `dt` is projected: older partitions have expired anyway. */
  readonly retentionDays: number;
}

export class LakeGlueTable extends Construct {
  readonly cfnTable: glue.CfnTable;
  readonly location: string;

  constructor(scope: Construct, id: string, props: LakeGlueTableProps) {
    super(scope, id);
    const { table } = props;
    this.location = `s3://${props.bucket.bucketName}/${tablePrefix(table.name)}`;
    this.cfnTable = new glue.CfnTable(this, 'Table', {
      catalogId: props.bucket.stack.account,
      databaseName: props.databaseName,
      tableInput: {
        name: table.name,
        description: table.description,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'Event date (UTC), YYYY-MM-DD.' },
          { name: 'hour', type: 'string', comment: 'Event hour (UTC), 00-23.' },
        ],
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          // An event may be up to 5 minutes ahead of the clock (DESIGN.md): tomorrow is in range.
          'projection.dt.range': `NOW-${props.retentionDays}DAYS,NOW+1DAYS`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'enum',
          'projection.hour.values': HOURS.join(','),
          'storage.location.template': `${this.location}dt=\${dt}/hour=\${hour}/`,
        },
        storageDescriptor: {
          location: this.location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          columns: table.columns.map((c) => ({
            name: c.name,
            type: GLUE_COLUMN_TYPES[c.type],
            comment: c.description,
          })),
        },
      },
    });
  }
}
