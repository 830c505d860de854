-- Per-person session generations: a session carries them, bumping one ends the sessions before
-- (every other session, or every recovery-code session).
ALTER TABLE `users` ADD `session_generation` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `recovery_generation` integer DEFAULT 0 NOT NULL;