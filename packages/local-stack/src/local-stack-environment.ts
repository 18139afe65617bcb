import { LOCAL_CREDENTIALS } from './clients.js';
import type { LocalStack } from './local-stack.js';

/**
 * Environment variables that point the AWS CLI v2, the SDKs and the kinesis-kit command at a local stack
 * (service-specific endpoint variables, the region and the dummy credentials the emulators accept).
 */
export function localStackEnvironment(stack: LocalStack): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDBEndpoint,
    AWS_REGION: stack.region,
    // The AWS CLI v1 reads only this one for the region.
    AWS_DEFAULT_REGION: stack.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

/**
 * Comment lines for the AWS CLI versions that ignore the per-service endpoint variables (v1, and v2 before 2.13):
 * the same calls with `--endpoint-url`.
 */
export function awsCliEndpointHint(stack: LocalStack): string[] {
  return [
    '# AWS CLI v1 or v2 before 2.13 ignores AWS_ENDPOINT_URL_*; give the endpoint on each call instead:',
    `#   aws kinesis list-streams --endpoint-url ${stack.kinesisEndpoint}`,
    `#   aws dynamodb list-tables --endpoint-url ${stack.dynamoDBEndpoint}`,
  ];
}
