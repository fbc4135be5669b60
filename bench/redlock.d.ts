/** The part of redlock 4's API the benchmark uses (the package ships no types). */
declare module "redlock" {
  import type Redis from "ioredis";

  interface Lock {
    unlock(): Promise<void>;
  }

  interface RedlockOptions {
    retryCount?: number;
    retryDelay?: number;
    retryJitter?: number;
  }

  export default class Redlock {
    constructor(clients: Redis[], options?: RedlockOptions);
    lock(resource: string, ttlMs: number): Promise<Lock>;
  }
}
