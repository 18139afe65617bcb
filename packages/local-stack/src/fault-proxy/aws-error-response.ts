/** The two JSON protocols behind the proxy, told apart by the `X-Amz-Target` prefix. */
export type AwsService = 'kinesis' | 'dynamodb';

/** The errors the proxy can answer a whole call with, named as the real service names them. */
export type InjectedErrorCode =
  | 'ProvisionedThroughputExceededException'
  | 'LimitExceededException'
  | 'ExpiredIteratorException'
  | 'ThrottlingException'
  | 'InternalFailure'
  | 'AccessDeniedException';

/** The list of {@link InjectedErrorCode}s, for validation and docs. */
export const INJECTED_ERROR_CODES: readonly InjectedErrorCode[] = [
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ExpiredIteratorException',
  'ThrottlingException',
  'InternalFailure',
  'AccessDeniedException',
];

/** An HTTP answer: status, headers and body. */
export interface ProxyResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The service and operation of a call, from `X-Amz-Target` (`Kinesis_20131202.PutRecords`). */
export interface AwsOperation {
  readonly service: AwsService | undefined;
  readonly operation: string;
}

/** Reads the service and operation of a JSON-protocol call; `undefined` service for anything else. */
export function parseTarget(target: string | undefined): AwsOperation {
  if (target === undefined) return { service: undefined, operation: '' };
  const dot = target.indexOf('.');
  const prefix = dot < 0 ? target : target.slice(0, dot);
  const operation = dot < 0 ? '' : target.slice(dot + 1);
  if (prefix.startsWith('Kinesis_')) return { service: 'kinesis', operation };
  if (prefix.startsWith('DynamoDB_')) return { service: 'dynamodb', operation };
  return { service: undefined, operation };
}

const DYNAMODB_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

// What each service really sends: Kinesis (awsJson1_1) names errors bare; DynamoDB (awsJson1_0) qualifies them,
// calls its 500 InternalServerError, and sends throttling from the coral availability namespace.
function wireType(service: AwsService, code: InjectedErrorCode): string {
  if (service === 'kinesis') return code;
  switch (code) {
    case 'InternalFailure':
      return `${DYNAMODB_PREFIX}InternalServerError`;
    case 'ThrottlingException':
      return 'com.amazon.coral.availability#ThrottlingException';
    case 'AccessDeniedException':
      return 'com.amazon.coral.service#AccessDeniedException';
    default:
      return `${DYNAMODB_PREFIX}${code}`;
  }
}

/** The message the real service sends with each error, close enough for logs and assertions. */
export function errorMessage(service: AwsService, code: InjectedErrorCode, shardId?: string): string {
  switch (code) {
    case 'ProvisionedThroughputExceededException':
      return service === 'kinesis'
        ? `Rate exceeded for shard ${shardId ?? 'shardId-000000000000'} in stream under account 000000000000.`
        : 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
    case 'LimitExceededException':
      return 'Rate exceeded for stream under account 000000000000.';
    case 'ExpiredIteratorException':
      return 'Iterator expired. The iterator was created at time 0 while right now it is 300001 which is further in the future than the tolerated delay of 300000 milliseconds.';
    case 'ThrottlingException':
      return 'Rate of requests exceeds the allowed throughput.';
    case 'InternalFailure':
      return service === 'kinesis' ? 'Internal service failure.' : 'Internal server error';
    case 'AccessDeniedException':
      // An IAM policy without the operation (a PutRecords-only producer policy lacks kinesis:ListShards).
      return 'User: arn:aws:iam::000000000000:user/local is not authorized to perform this action on this resource because no identity-based policy allows it';
  }
}

/** The HTTP status each error comes with: 500 for internal failures, 400 for everything else. */
export function errorStatus(code: InjectedErrorCode): number {
  return code === 'InternalFailure' ? 500 : 400;
}

/** The JSON content type of each protocol. */
export function contentType(service: AwsService): string {
  return service === 'kinesis' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
}

/** An error answer exactly as the service would send it, so the SDK builds the same exception class. */
export function errorResponse(
  service: AwsService,
  code: InjectedErrorCode,
  requestId: string,
  detail: { readonly shardId?: string; readonly message?: string } = {},
): ProxyResponse {
  const message = detail.message ?? errorMessage(service, code, detail.shardId);
  const body = Buffer.from(JSON.stringify({ __type: wireType(service, code), message }));
  return {
    status: errorStatus(code),
    headers: {
      'content-type': contentType(service),
      'content-length': String(body.length),
      'x-amzn-requestid': requestId,
    },
    body,
  };
}
