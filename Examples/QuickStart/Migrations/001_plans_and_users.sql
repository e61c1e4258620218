CREATE TABLE plans (
    id   text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE users (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    plan  text NOT NULL REFERENCES plans (id)
);
