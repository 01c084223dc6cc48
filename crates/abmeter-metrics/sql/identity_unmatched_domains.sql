-- Business email domains no account has, by the activities left unmatched because of them
-- (the activity's own email, else its contact's) and the contacts behind those activities.
SELECT e.domain AS domain,
       count(*) AS activities,
       count(DISTINCT ra.resolved_contact_id) AS contacts
FROM resolved_activities ra
LEFT JOIN identity_map c ON c.kind = 'contact' AND c.key = ra.resolved_contact_id
JOIN identity_map e ON e.kind = 'email' AND e.key = coalesce(ra.email, c.email)
WHERE ra.unmatched_reason = 'unknown_domain' AND e.domain IS NOT NULL
GROUP BY e.domain
ORDER BY activities DESC, contacts DESC, domain
LIMIT {top}
