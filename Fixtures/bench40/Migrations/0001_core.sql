-- bench40 / 0001: core identity and tenancy tables
CREATE TYPE account_plan AS ENUM ('free', 'starter', 'pro', 'enterprise');

CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
    plan        account_plan NOT NULL DEFAULT 'free',
    seats       integer NOT NULL DEFAULT 1 CHECK (seats > 0),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CONSTRAINT accounts_slug_format CHECK (slug ~ '^[a-z0-9-]+$')
);
CREATE UNIQUE INDEX accounts_slug_key ON accounts (slug) WHERE deleted_at IS NULL;

CREATE TABLE account_settings (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email          text NOT NULL,
    display_name   text NOT NULL,
    password_hash  text,
    is_admin       boolean NOT NULL DEFAULT false,
    last_login_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CONSTRAINT users_email_format CHECK (position('@' IN email) > 1)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_account_id_idx ON users (account_id);

CREATE TABLE roles (
    id          serial PRIMARY KEY,
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text,
    CONSTRAINT roles_account_name_key UNIQUE (account_id, name)
);

CREATE TABLE permissions (
    id    serial PRIMARY KEY,
    code  text NOT NULL UNIQUE,
    description text
);

CREATE TABLE role_permissions (
    role_id        integer NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id  integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE user_roles (
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id     integer NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_id_idx ON user_roles (role_id);

CREATE TABLE teams (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT teams_account_name_key UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    team_id    bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_lead    boolean NOT NULL DEFAULT false,
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id_idx ON team_members (user_id);

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    prefix       char(8) NOT NULL,
    key_hash     text NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    expires_at   timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);
CREATE INDEX api_keys_active_idx ON api_keys (account_id) WHERE revoked_at IS NULL;

CREATE TABLE sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent  text,
    ip_address  inet,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_expires_idx ON sessions (user_id, expires_at);
