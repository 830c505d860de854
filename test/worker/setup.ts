import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file gets its own isolated storage; the schema is applied before its tests run.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
