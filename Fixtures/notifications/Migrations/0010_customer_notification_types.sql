-- Which customer subscribed to which notification type (many-to-many).
-- Numbered 0010 on purpose: versions sort numerically, so this runs after 0002.
CREATE TABLE customer_notification_types (
    customer_id           bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    notification_type_id  bigint NOT NULL REFERENCES notification_types (id) ON DELETE CASCADE,
    subscribed_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, notification_type_id)
);
CREATE INDEX customer_notification_types_type_idx ON customer_notification_types (notification_type_id);
