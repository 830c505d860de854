ALTER TABLE `payouts` ADD `fee_reserved` text;--> statement-breakpoint
ALTER TABLE `payouts` ADD `creates_token_account` integer DEFAULT false NOT NULL;