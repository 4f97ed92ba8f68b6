-- A shop's own SMTP server, which its e-mails to contacts leave by instead of
-- the deployment's. The password is sealed (XChaCha20-Poly1305, under
-- NOTIFICATION_SECRET_KEYS, bound to the account), never kept in the clear.
create table account_smtp (
    account_id       uuid primary key,
    host             text not null,
    port             integer not null,
    -- starttls, tls (implicit), or none (development only)
    security         text not null,
    username         text not null default '',
    password_key_id  text,
    password_sealed  bytea,
    from_address     text not null,
    -- The latest failure to send through it, cleared by the next success.
    last_error       text not null default '',
    last_error_at    timestamptz,
    updated_at       timestamptz not null default now()
);
