-- Emails that several contacts share: an activity with such an email gets no contact from it.
SELECT lower(email) AS email, count(*) AS contacts
FROM contacts
WHERE email IS NOT NULL
GROUP BY lower(email)
HAVING count(*) > 1
ORDER BY contacts DESC, email
LIMIT {top}
