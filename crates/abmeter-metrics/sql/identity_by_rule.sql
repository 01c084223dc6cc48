-- Activities by the rule that gave them an account (SPEC §3), or by why none did.
SELECT match_rule, unmatched_reason, count(*) AS activities
FROM resolved_activities
GROUP BY match_rule, unmatched_reason
