/** The SageMaker container and S3 as the endpoint adapter sees them, through aws-sdk-client-mock. */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InvokeEndpointCommand,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
  SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { ModelRef } from '../../../../lambdas/core/ports.js';
import { InvocationRequest, invoke } from '../../../../sagemaker/container/invocations.js';
import type { Scorer } from '../../../../sagemaker/model/scorer.js';
import { getObjectOutput } from '../../../support/model-artifacts.js';

export const BUCKET = 'adclick-models-test';
const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' };

export const sagemakerClient = () => new SageMakerRuntimeClient({ region: 'us-east-1', credentials, maxAttempts: 1 });
export const s3Client = () => new S3Client({ region: 'us-east-1', credentials });

export function modelRef(modelId: string, version: string): ModelRef {
  return { model_id: modelId, version, artifact_uri: `s3://${BUCKET}/models/${modelId}/artifact.tar.gz` };
}

/** The container's answer to an InvokeEndpoint, computed by the container's own `invoke`. */
export function containerAnswer(scorer: Scorer, input: InvokeEndpointCommandInput): InvokeEndpointCommandOutput {
  const request = InvocationRequest.parse(JSON.parse(String(input.Body)));
  return {
    $metadata: { httpStatusCode: 200, requestId: 'b1c2d3e4-0000-4000-8000-000000000000' },
    Body: Uint8ArrayBlobAdapter.fromString(JSON.stringify(invoke(scorer, request))),
    ContentType: 'application/json',
    InvokedProductionVariant: input.TargetVariant,
  };
}

/** Serves each model's artifact at its key; every call gets a fresh body stream, as S3 would. */
export function serveArtifacts(s3: AwsClientStub<S3Client>, artifacts: Record<string, Uint8Array>): void {
  for (const [modelId, bytes] of Object.entries(artifacts)) {
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: `models/${modelId}/artifact.tar.gz` }).callsFake(() =>
      getObjectOutput(bytes),
    );
  }
}

export { InvokeEndpointCommand };
