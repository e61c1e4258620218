-- The registry of notification types. Rows are synced from the Swift catalog by the
-- NotificationTypeSync seeder (after migrations), never by a connect hook.
CREATE TABLE notification_types (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    description  text NOT NULL,
    is_active    boolean NOT NULL DEFAULT true
);
