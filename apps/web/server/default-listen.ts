/** Where a hub listens unless told otherwise: loopback only, so nothing is served beyond this host. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 7300 } as const;
