export declare function freePort(): Promise<number>;
export declare function postgresBin(): string;
export interface PostgresHandle {
  /** `postgres://prof:<password>@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}
export declare function startPostgres(options?: { fast?: boolean; maxConnections?: number }): Promise<PostgresHandle>;
export interface S3Handle {
  endpoint: string;
  bucket: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** A `PROF_BLOBS` URL (with its credentials) for keys under `prefix`. */
  url(prefix?: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}
export declare function startS3(options?: { bucket?: string }): Promise<S3Handle>;
