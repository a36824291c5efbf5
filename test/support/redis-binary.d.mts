export declare const REDIS_INSTALL_HINT: string;
/** The binary asked for: `REDISMS_SYSTEM_BINARY` (redis-memory-server's own setting), else `redis-server`. */
export declare function redisServerCommand(): string;
/** The absolute path of `command` (a path, or a name looked up on PATH) if it is an executable file. */
export declare function findRedisServerBinary(command?: string): string | undefined;
/** Sends an inline PING and resolves on `+PONG`. */
export declare function ping(host: string, port: number, timeoutMs: number): Promise<void>;
