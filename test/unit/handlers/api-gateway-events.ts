import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

const FIXTURES = new URL('../../fixtures/apigateway/', import.meta.url);

/** A recorded-shape API Gateway v1 proxy event from test/fixtures/apigateway, with fields replaced. */
export function apiEvent(fixture: string, patch: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  const event = JSON.parse(readFileSync(new URL(fixture, FIXTURES), 'utf8')) as APIGatewayProxyEvent;
  return { ...event, ...patch };
}

/** The event with a new JSON body (and content type), as a client would have sent it. */
export function withBody(event: APIGatewayProxyEvent, body: string, contentType = 'application/json') {
  return {
    ...event,
    body,
    isBase64Encoded: false,
    headers: { ...event.headers, 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) },
  };
}

export function lambdaContext(awsRequestId = 'f0e1d2c3-b4a5-4697-8877-665544332211'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'adclick-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:adclick-api',
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: '/aws/lambda/adclick-api',
    logStreamName: '2026/12/04/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
