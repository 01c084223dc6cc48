-- Domains that several accounts list: rule 3 matches none of them.
SELECT key AS domain, string_agg(account_id, ', ' ORDER BY account_id) AS accounts
FROM identity_map
WHERE kind = 'domain' AND reason = 'ambiguous_domain'
GROUP BY key
ORDER BY key
