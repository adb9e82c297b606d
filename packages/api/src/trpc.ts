import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import { formatZodError } from '@firesight/protocol';
import { apiCodeOf } from './errors.ts';
import type { ApiContext } from './context.ts';

/** The API's one tRPC instance: every router is built with it, so every error is formatted alike. */
export const t = initTRPC.context<ApiContext>().create({
	errorFormatter({ shape, error }) {
		const zod = error.cause instanceof z.ZodError ? error.cause : undefined;
		return {
			...shape,
			// Zod's default message is a JSON dump of issues; one line reads better in a CLI.
			message: zod ? formatZodError(zod) : shape.message,
			data: { ...shape.data, firesight: apiCodeOf(error), stack: undefined },
		};
	},
});
