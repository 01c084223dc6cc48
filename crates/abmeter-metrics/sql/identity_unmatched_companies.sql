-- Company names of contacts that have no account, by the activities they left unmatched and
-- the contacts that carry the name, with why rule 4 did not match the name.
SELECT c.company AS company,
       count(ra.id) AS activities,
       count(DISTINCT c.key) AS contacts,
       min(c.company_reason) AS reason
FROM identity_map c
LEFT JOIN resolved_activities ra
  ON ra.resolved_contact_id = c.key AND ra.resolved_account_id IS NULL
WHERE c.kind = 'contact' AND c.account_id IS NULL AND c.company IS NOT NULL
GROUP BY c.company
ORDER BY activities DESC, contacts DESC, company
LIMIT {top}
