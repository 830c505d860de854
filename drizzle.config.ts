import { defineConfig } from "drizzle-kit";

// Migrations are generated SQL in migrations/, applied by `wrangler d1 migrations apply`.
export default defineConfig({
	dialect: "sqlite",
	schema: "./src/db/schema/index.ts",
	out: "./migrations",
});
