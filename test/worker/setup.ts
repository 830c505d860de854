import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file gets its own isolated storage; the schema is applied before its tests run.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// The test bundler resolves @solana/kit to its browser build (package.json "browser" field),
// which refuses crypto unless the page is a secure context; workerd has no such notion. The
// production bundle uses kit's workerd build, which has no such check.
Object.defineProperty(globalThis, "isSecureContext", { value: true, configurable: true });
