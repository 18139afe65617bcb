import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ValidationError } from './errors.js';

/** Sockets kept open per client and protocol when the caller does not say: the SDK's own default. */
export const DEFAULT_MAX_SOCKETS = 50;

/** Credentials as the SDK takes them: fixed keys, or a provider the SDK calls (and refreshes) itself. */
export type SdkCredentials =
  | { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>);

/**
 * Options of {@link createKinesisClient}, {@link createDynamoDBClient} and {@link createCloudWatchClient}: one
 * object for all three, so an application passes the same options to each and every client finds its own
 * endpoint in it.
 *
 * Endpoints left unset are resolved by the SDK itself, in its documented order: `AWS_ENDPOINT_URL_KINESIS`
 * (`…_DYNAMODB`, `…_CLOUDWATCH`), then `AWS_ENDPOINT_URL`, then the shared config file's `endpoint_url`, then
 * the service's regional endpoint. These functions never read those variables themselves, so they behave as
 * the AWS CLI and every other SDK client do (`kinesis-kit local` exports them).
 */
export interface SdkClientOptions {
  /** The region to sign for. @defaultValue the SDK's chain (`AWS_REGION`, the profile…) */
  readonly region?: string;
  /** Kinesis endpoint, e.g. `http://127.0.0.1:4567`. @defaultValue the SDK's resolution (see above) */
  readonly kinesisEndpoint?: string;
  /** DynamoDB endpoint (lease tables). @defaultValue the SDK's resolution (see above) */
  readonly dynamoDbEndpoint?: string;
  /** CloudWatch endpoint (metrics). @defaultValue the SDK's resolution (see above) */
  readonly cloudWatchEndpoint?: string;
  /** Credentials to sign with. @defaultValue the SDK's default provider chain */
  readonly credentials?: SdkCredentials;
  /** The shared-config profile to read credentials and region from. @defaultValue `AWS_PROFILE` or `default` */
  readonly profile?: string;
  /**
   * Longest one HTTP request may take, in ms, before it fails with a retriable `TimeoutError`. The SDK sets
   * none by default (its handler only logs a warning), so a half-open connection holds a call forever.
   * @defaultValue no limit (bound calls with `callWithTimeout`, which also covers a hung DNS lookup)
   */
  readonly requestTimeout?: number;
  /** Longest a connection may take to open, in ms. @defaultValue no limit */
  readonly connectionTimeout?: number;
  /** Sockets kept open per protocol (HTTP and HTTPS). @defaultValue 50 ({@link DEFAULT_MAX_SOCKETS}) */
  readonly maxSockets?: number;
  /**
   * Attempts the SDK makes per call, the first included. A producer's client wants 1: it retries per record,
   * and an SDK retry of a whole PutRecords call would write again the records that had succeeded.
   * @defaultValue the SDK's default (3)
   */
  readonly maxAttempts?: number;
  /**
   * Replaces the HTTP/1.1 keep-alive handler, e.g. with the SDK's HTTP/2 handler for SubscribeToShard (the one
   * call that needs HTTP/2). When set, `requestTimeout`, `connectionTimeout` and `maxSockets` are not used.
   */
  readonly requestHandler?: KinesisClientConfig['requestHandler'];
}

/** The part of an SDK client's configuration that {@link sdkClientConfig} fills in. */
export type SdkClientConfig = Pick<
  KinesisClientConfig,
  'region' | 'endpoint' | 'credentials' | 'profile' | 'maxAttempts' | 'requestHandler'
>;

/** The three services we build clients for, and the option naming each one's endpoint. */
export type SdkEndpointOption = 'kinesisEndpoint' | 'dynamoDbEndpoint' | 'cloudWatchEndpoint';

/**
 * The client configuration shared by the three factories, for this service's endpoint. Exported for callers
 * that build another SDK client the same way (`new SQSClient(sdkClientConfig(options))`).
 *
 * @throws {@link ValidationError} when the endpoint is not an `http://` or `https://` URL.
 */
export function sdkClientConfig(options: SdkClientOptions, endpointOption?: SdkEndpointOption): SdkClientConfig {
  const endpoint = endpointOption === undefined ? undefined : options[endpointOption];
  if (endpoint !== undefined && endpointOption !== undefined) validateEndpoint(endpointOption, endpoint);
  validateMillis('requestTimeout', options.requestTimeout);
  validateMillis('connectionTimeout', options.connectionTimeout);
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    // Only when given: an `endpoint` key, even undefined-valued, is the one thing that would stop the SDK from
    // reading AWS_ENDPOINT_URL_<SERVICE> itself.
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    requestHandler: options.requestHandler ?? http1Handler(options),
  };
}

/**
 * HTTP/1.1 with keep-alive. The SDK's default Kinesis handler speaks HTTP/2 (for SubscribeToShard), which
 * kinesalite does not speak at all (every call fails with `ERR_HTTP2_ERROR`) and which costs a session per
 * request against kinesis-mock; control-plane and polling calls need nothing from HTTP/2.
 */
function http1Handler(options: SdkClientOptions): NodeHttpHandler {
  const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
  if (!Number.isInteger(maxSockets) || maxSockets < 1) {
    throw new ValidationError(`maxSockets must be a whole number ≥ 1, got ${maxSockets}`, {
      field: 'maxSockets',
      value: maxSockets,
    });
  }
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    // Without throwOnRequestTimeout the handler only logs a warning when the time is up and keeps waiting.
    ...(options.requestTimeout === undefined
      ? {}
      : { requestTimeout: options.requestTimeout, throwOnRequestTimeout: true }),
    ...(options.connectionTimeout === undefined ? {} : { connectionTimeout: options.connectionTimeout }),
  });
}

function validateEndpoint(field: SdkEndpointOption, endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValidationError(
      `${field} must be an http:// or https:// URL such as http://127.0.0.1:4567, got ${JSON.stringify(endpoint)}`,
      { field, value: endpoint },
    );
  }
}

function validateMillis(field: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new ValidationError(`${field} must be a finite number of ms > 0, got ${value}`, { field, value });
  }
}

/**
 * A Kinesis client over HTTP/1.1 keep-alive, at `kinesisEndpoint` or wherever the SDK's standard variables
 * point (`AWS_ENDPOINT_URL_KINESIS`).
 *
 * @throws {@link ValidationError} naming a bad endpoint or timeout.
 */
export function createKinesisClient(options: SdkClientOptions = {}): KinesisClient {
  return new KinesisClient(sdkClientConfig(options, 'kinesisEndpoint'));
}

/**
 * A DynamoDB client over HTTP/1.1 keep-alive, at `dynamoDbEndpoint` or wherever the SDK's standard variables
 * point (`AWS_ENDPOINT_URL_DYNAMODB`).
 *
 * @throws {@link ValidationError} naming a bad endpoint or timeout.
 */
export function createDynamoDBClient(options: SdkClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(sdkClientConfig(options, 'dynamoDbEndpoint'));
}

/**
 * A CloudWatch client over HTTP/1.1 keep-alive, at `cloudWatchEndpoint` or wherever the SDK's standard
 * variables point (`AWS_ENDPOINT_URL_CLOUDWATCH`).
 *
 * @throws {@link ValidationError} naming a bad endpoint or timeout.
 */
export function createCloudWatchClient(options: SdkClientOptions = {}): CloudWatchClient {
  return new CloudWatchClient(sdkClientConfig(options, 'cloudWatchEndpoint'));
}
