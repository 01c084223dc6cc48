-- Visitors stitched to a contact, those identified as several contacts (the latest
-- identification wins), and the activities that got their contact only through stitching
-- (no contact id or email of their own).
SELECT
  (SELECT count(*) FROM identity_map WHERE kind = 'visitor') AS visitors,
  (SELECT count(*) FROM identity_map WHERE kind = 'visitor' AND contacts_seen > 1) AS conflicts,
  (SELECT count(*) FROM resolved_activities
     WHERE contact_id IS NULL AND email IS NULL AND anonymous_id IS NOT NULL
       AND resolved_contact_id IS NOT NULL) AS stitched_activities
