CREATE TABLE `treasury_checks` (
	`currency` text NOT NULL,
	`address` text NOT NULL,
	`chain_balance` text NOT NULL,
	`ledger_balance` text NOT NULL,
	`difference` text NOT NULL,
	`caught_up` integer NOT NULL,
	`slot` integer NOT NULL,
	`checked_at` integer NOT NULL,
	PRIMARY KEY(`currency`, `checked_at`)
);
