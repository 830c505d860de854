import { defineConfig } from "vitest/config";

// Pure unit tests of src/domain and src/lib: plain Node, no runtime.
export default defineConfig({
	test: { include: ["test/unit/**/*.test.ts"] },
});
