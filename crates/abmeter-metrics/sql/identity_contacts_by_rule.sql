-- Contacts by the rule that gave them their own account (2 account_id, 3 email domain,
-- 4 company name), or by why none did.
SELECT match_rule, reason, count(*) AS contacts
FROM identity_map
WHERE kind = 'contact'
GROUP BY match_rule, reason
