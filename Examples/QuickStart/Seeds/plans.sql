INSERT INTO plans (id, name) VALUES ('free', 'Free'), ('pro', 'Pro');
