CREATE TABLE `solana_signatures` (
	`signature` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`created` integer NOT NULL
);
