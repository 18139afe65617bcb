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
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}
