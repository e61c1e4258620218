/// The app's schema, as SQL migrations written in Swift.
public enum NotificationMigrations {
    /// Every migration, in order.
    public static let all: [Migration] = [
        Migration("0001_customers", """
            CREATE TABLE customers (
                id          bigserial PRIMARY KEY,
                email       text NOT NULL UNIQUE,
                name        text NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now()
            )
            """),
        // Rows are synced from NotificationCatalog after the migrations, never at boot.
        Migration("0002_notification_types", """
            CREATE TABLE notification_types (
                id           bigserial PRIMARY KEY,
                name         text NOT NULL UNIQUE,
                description  text NOT NULL,
                is_active    boolean NOT NULL DEFAULT true
            )
            """),
        Migration(
            "0003_customer_notification_types",
            """
            CREATE TABLE customer_notification_types (
                customer_id           bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
                notification_type_id  bigint NOT NULL REFERENCES notification_types (id) ON DELETE CASCADE,
                subscribed_at         timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (customer_id, notification_type_id)
            )
            """,
            "CREATE INDEX customer_notification_types_type_idx ON customer_notification_types (notification_type_id)"),
    ]

    /// A migrator for ``all``.
    public static let migrator = Migrator(all)
}
