-- Internal-intelligence database for the feature-extraction function (MySQL/MariaDB).
-- Load into an empty database:  mariadb intel < sample_data/intel.sql
-- The rows are deliberately messy (mixed case, trailing blanks, NULLs, duplicates): the
-- function cleans them with pandas.

DROP TABLE IF EXISTS observations;
DROP TABLE IF EXISTS domains;

CREATE TABLE domains (
    name          VARCHAR(253) NOT NULL PRIMARY KEY,
    registered_on DATE NULL,
    registrar     VARCHAR(128) NULL
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

CREATE TABLE observations (
    id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    entity        VARCHAR(253) NOT NULL,
    observed_at   DATETIME NULL,
    category      VARCHAR(32) NULL,
    analyst_score DECIMAL(5, 2) NULL,
    INDEX (entity)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

INSERT INTO domains (name, registered_on, registrar) VALUES
    ('example.com',        '1995-08-14', 'IANA'),
    ('evil-login.xyz',     '2026-10-20', 'CheapNames Ltd'),
    ('x7k2q9zt4w.ru',      '2026-09-02', NULL),
    ('badparent.top',      '2026-07-11', 'CheapNames Ltd'),
    ('shop.example.co.uk', NULL,         NULL);

INSERT INTO observations (entity, observed_at, category, analyst_score) VALUES
    ('example.com',          '2026-03-01 10:00:00', 'benign',   5.00),
    ('Evil-Login.XYZ ',      '2026-10-28 08:15:00', 'Phishing', 92.50),
    ('evil-login.xyz',       '2026-10-28 08:15:00', 'phishing', 92.50),
    ('evil-login.xyz',       '2026-10-30 21:40:00', ' phishing', NULL),
    ('evil-login.xyz',       NULL,                  'phishing', 99.00),
    ('x7k2q9zt4w.ru',        '2026-09-15 00:00:00', 'c2',       88.00),
    ('x7k2q9zt4w.ru',        '2026-06-01 00:00:00', 'malware',  NULL),
    ('badparent.top',        '2026-08-01 12:00:00', 'spam',     40.00),
    ('203.0.113.7',          '2026-10-05 03:00:00', 'scan',     55.00),
    ('203.0.113.7',          '2026-10-25 03:00:00', 'MALWARE',  150.00),
    ('198.51.100.23',        '2025-01-10 00:00:00', 'spam',     NULL);
