ALTER TABLE `events` ADD `published` integer;--> statement-breakpoint
CREATE INDEX `events_unpublished_idx` ON `events` (`id`) WHERE "events"."published" IS NULL;--> statement-breakpoint
-- Events recorded before publishing existed were never to be delivered: mark them published.
UPDATE `events` SET `published` = `created`;
