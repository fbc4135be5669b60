/**
 * The state client for edge apps, over HTTP or a service binding.
 */
import type { Result } from "../errors.ts";
import type {
  Deleted,
  IncrementInput,
  IncrementResult,
  ListPage,
  PreconditionInput,
  PutResult,
  StateEntry,
  StateMessage,
  TxnResult,
} from "../schemas/state.ts";

/** Where a subscription starts: keys under `prefix`, replaying changes after `fromVersion`. */
export interface WatchOptions {
  prefix?: string;
  fromVersion?: number;
}

/** A running subscription. */
export interface StateWatch {
  close(): void;
}

/** A transaction as sent: compares, then the `success` or `failure` operations. */
export interface TxnRequestInput {
  compare?: Array<{ key: string; op?: "==" | "!=" | "<" | ">"; version?: number; value?: unknown }>;
  success?: TxnOpRequest[];
  failure?: TxnOpRequest[];
}

/** One operation of a transaction branch. */
export type TxnOpRequest =
  | { op: "put"; key: string; value: unknown; ttlMs?: number }
  | { op: "delete"; key: string }
  | { op: "get"; key: string };

/** The state operations, as both transports offer them. */
export interface StateApi {
  get(namespace: string, key: string): Promise<Result<StateEntry>>;
  put(
    namespace: string,
    key: string,
    input: { value: unknown; ttlMs?: number },
    pre?: PreconditionInput,
  ): Promise<Result<PutResult>>;
  delete(namespace: string, key: string, pre?: PreconditionInput): Promise<Result<Deleted>>;
  increment(
    namespace: string,
    key: string,
    input?: Partial<IncrementInput>,
  ): Promise<Result<IncrementResult>>;
  list(
    namespace: string,
    query?: { prefix?: string; limit?: number; cursor?: string },
  ): Promise<Result<ListPage>>;
  txn(namespace: string, input: TxnRequestInput): Promise<Result<TxnResult>>;
  /** Delivers every message of a subscription to `onMessage`; `onClose` runs when it ends. */
  watch(
    namespace: string,
    options: WatchOptions,
    onMessage: (message: StateMessage) => void,
    onClose?: () => void,
  ): Promise<Result<StateWatch>>;
}
