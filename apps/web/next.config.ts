import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// The hub runs on hosts without outbound network: nothing may phone home at build or run time.
process.env.NEXT_TELEMETRY_DISABLED = '1';

const here = path.dirname(fileURLToPath(import.meta.url));

const config: NextConfig = {
	// Workspace packages ship TypeScript sources, not build output.
	transpilePackages: ['@firesight/api', '@firesight/profile', '@firesight/protocol', '@firesight/store'],
	// Modules resolve from the workspace root, where npm hoists node_modules.
	turbopack: { root: path.resolve(here, '../..') },
	poweredByHeader: false,
	reactStrictMode: true,
	devIndicators: false,
	// The dashboard is one process serving one team; no image optimizer to download.
	images: { unoptimized: true },
};

export default config;
