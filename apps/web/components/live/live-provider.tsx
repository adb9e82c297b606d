'use client';

import { usePathname } from 'next/navigation';
import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { LiveSocket, liveUrl } from '../../lib/live-socket.ts';
import { LiveStore, initialLiveState, reduceConnection, reduceMessage, type LiveState } from '../../lib/live-store.ts';

interface LiveContextValue {
	store: LiveStore;
	retryNow(): void;
}

const LiveContext = createContext<LiveContextValue | null>(null);

/** Opens the one `/live` socket of this tab and shares what it hears with every component. */
export function LiveProvider({ children }: { children: ReactNode }) {
	const store = useMemo(() => new LiveStore(), []);
	const socketHolder = useMemo(() => ({ socket: null as LiveSocket | null }), []);
	// Before login the hub refuses /live; trying would only show a "cannot reach the hub" banner.
	// A share page (`/s/<id>`) opens without a login and shows a snapshot: it needs no live data.
	const pathname = usePathname();
	const loggingIn = pathname === '/login' || pathname.startsWith('/s/');

	useEffect(() => {
		if (loggingIn) return;
		const socket = new LiveSocket(liveUrl(window.location), {
			// Stamped on arrival: pages judge freshness by the browser's clock alone.
			onMessage: (message) => {
				const receivedAt = Date.now();
				store.update((state) => reduceMessage(state, message, receivedAt));
			},
			onState: (connection, { retryAt }) =>
				store.update((state) => reduceConnection(state, connection, retryAt, Date.now()), { urgent: true }),
		});
		socketHolder.socket = socket;
		socket.start();
		return () => {
			socket.stop();
			socketHolder.socket = null;
		};
	}, [store, socketHolder, loggingIn]);

	const value = useMemo<LiveContextValue>(() => ({ store, retryNow: () => socketHolder.socket?.retryNow() }), [store, socketHolder]);
	return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

function useLiveContext(): LiveContextValue {
	const context = useContext(LiveContext);
	if (!context) throw new Error('useLive must be used inside <LiveProvider>');
	return context;
}

const serverSnapshot = (): LiveState => initialLiveState;

export function useLive(): LiveState {
	const { store } = useLiveContext();
	return useSyncExternalStore(store.subscribe, store.getSnapshot, serverSnapshot);
}

export function useRetryNow(): () => void {
	return useLiveContext().retryNow;
}
