import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Scripts resolve files from the repository root, wherever they are started from.
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const DEV_VARS_FILE = ".dev.vars";
export const DEV_VARS_EXAMPLE_FILE = ".dev.vars.example";
export const DEMO_MERCHANT_FILE = join(".dev", "demo-merchant.json");

export const DEFAULT_GATEWAY_URL = "http://127.0.0.1:8787";
