-- Postings are immutable: corrections are new transfers, never edits.
CREATE TRIGGER `ledger_postings_no_update` BEFORE UPDATE ON `ledger_postings`
BEGIN
	SELECT RAISE(ABORT, 'ledger postings are immutable');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_postings_no_delete` BEFORE DELETE ON `ledger_postings`
BEGIN
	SELECT RAISE(ABORT, 'ledger postings are immutable');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transfers_no_update` BEFORE UPDATE ON `ledger_transfers`
BEGIN
	SELECT RAISE(ABORT, 'ledger transfers are immutable');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transfers_no_delete` BEFORE DELETE ON `ledger_transfers`
BEGIN
	SELECT RAISE(ABORT, 'ledger transfers are immutable');
END;
--> statement-breakpoint
-- Balances move only when a posting is really inserted, so replaying a transfer (INSERT OR IGNORE)
-- leaves them unchanged.
CREATE TRIGGER `ledger_postings_balance` AFTER INSERT ON `ledger_postings`
BEGIN
	INSERT INTO `ledger_balances` (`account`, `currency`, `balance`, `updated`)
	VALUES (NEW.`account`, NEW.`currency`, NEW.`amount`, NEW.`created`)
	ON CONFLICT (`account`) DO UPDATE SET
		`balance` = `balance` + excluded.`balance`,
		`updated` = excluded.`updated`;
END;
