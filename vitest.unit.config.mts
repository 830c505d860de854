import { defineConfig } from "vitest/config";
import { onConsoleLog, quietSourceMaps, reporters } from "./vitest.output.mjs";

// Pure unit tests of src/domain and src/lib: plain Node, no runtime.
export default defineConfig({
	plugins: [quietSourceMaps()],
	test: { onConsoleLog, reporters, include: ["test/unit/**/*.test.ts"] },
});
