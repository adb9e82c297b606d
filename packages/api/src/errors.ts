import { TRPCError } from '@trpc/server';

/**
 * The closed set of API error codes. Clients switch on these (shown in `error.data.firesight`),
 * never on message text.
 */
export const apiErrorCodes = ['BAD_INPUT', 'NOT_FOUND', 'RANGE_TOO_LARGE', 'TOO_LARGE', 'UNAVAILABLE', 'INTERNAL'] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

const TRPC_CODE = {
	BAD_INPUT: 'BAD_REQUEST',
	NOT_FOUND: 'NOT_FOUND',
	RANGE_TOO_LARGE: 'BAD_REQUEST',
	TOO_LARGE: 'PAYLOAD_TOO_LARGE',
	UNAVAILABLE: 'SERVICE_UNAVAILABLE',
	INTERNAL: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<ApiErrorCode, TRPCError['code']>;

/** The one error type procedures throw. */
export class ApiError extends TRPCError {
	readonly firesight: ApiErrorCode;

	constructor(code: ApiErrorCode, message: string, cause?: unknown) {
		super({ code: TRPC_CODE[code], message, cause });
		this.firesight = code;
	}
}

/** Maps any error a procedure or tRPC raised onto the closed set. */
export function apiCodeOf(error: TRPCError): ApiErrorCode {
	if (error instanceof ApiError) return error.firesight;
	if (error.cause instanceof ApiError) return error.cause.firesight;
	switch (error.code) {
		case 'BAD_REQUEST':
		case 'PARSE_ERROR':
		case 'METHOD_NOT_SUPPORTED':
		case 'UNPROCESSABLE_CONTENT':
			return 'BAD_INPUT';
		case 'NOT_FOUND':
			return 'NOT_FOUND';
		case 'PAYLOAD_TOO_LARGE':
			return 'TOO_LARGE';
		case 'SERVICE_UNAVAILABLE':
		case 'TIMEOUT':
			return 'UNAVAILABLE';
		default:
			return 'INTERNAL';
	}
}
