-- certportal schema v7 (sqlite): the zone a user chose for times (IANA name; NULL = their
-- browser's zone with JavaScript, else the portal's time_zone). Reminder mails use it too.
ALTER TABLE users ADD COLUMN time_zone TEXT;
