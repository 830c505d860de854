import { integer } from "drizzle-orm/sqlite-core";

/** Unix seconds, as the API reports `created`. */
export const created = { created: integer("created").notNull() };

export const livemode = { livemode: integer("livemode", { mode: "boolean" }).notNull() };
