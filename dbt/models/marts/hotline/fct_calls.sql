{#- One row per hotline call (10000/10001), with the flags the hotline indicators use.
    CC_FCR (一次解决率): an answered call is resolved at first call unless the same caller
    queued again for the same skill group within 48 h after the call ended:
        another call (any period, answered or not, other call_id) with the same non-NULL
        caller_no_key and skill_group and queue_start in (call_end, call_end + 48 h].
    Window-based, one sort, no self-join: per caller and skill group, a timeline holds every
    queued call at its queue_start (a possible repeat) and every answered call at its call_end
    (a question). For a question at t, sum over the RANGE frame [t, t + 48 h] minus its peers
    at exactly t counts the queue_starts in (t, t + 48 h]; the call's own queue_start is taken
    off when it lies in its own window (only in malformed data: queue_start after call_end).
    Answered calls without caller, skill group or call_end cannot have a repeat (as SQL's NOT
    EXISTS would give).
    The window runs here rather than in an intermediate table: the calls are then written
    once downstream of staging, not twice with three indexes each (docs/benchmarks.md).
    Incremental: a changed call (new, corrected or removed) can change the flag of the earlier
    calls of its caller and skill group, so a build recomputes every call of each (caller,
    skill group) that has a changed call, old or new version: the window then sees the whole
    timeline and the flags equal a full build's. -#}
{{ incremental_config('CC_CALL', 'call_id') }}
{%- set loads = incremental_loads('CC_CALL') %}

with

{%- if incremental_ready() %}

-- not materialised: each reference reads staging through an index (refreshed_at, call_id,
-- caller) instead of a copy of every call spilled to disk
staged as not materialized (
    select * from {{ ref('stg_cc__calls') }}
),

changed as (
    {{ changed_and_previous_versions('call_id', ['caller_no_key', 'skill_group'], loads) }}
),

timelines as (
    -- every (caller, skill group) with a changed call: recomputed whole
    select distinct
        caller_no_key,
        skill_group
    from changed
    where caller_no_key is not null and skill_group is not null
),

calls as (
    select staged.*
    from staged
    inner join timelines
        on staged.caller_no_key = timelines.caller_no_key
            and staged.skill_group = timelines.skill_group
    union
    select staged.*
    from staged
    where staged.call_id in (select changed.call_id from changed)
),
{%- else %}

staged as (
    select * from {{ ref('stg_cc__calls') }}
),

-- not materialised: read three times (questions, queued calls, the other calls); a
-- materialised CTE would copy every call into a spilling tuplestore, inlined each reference
-- scans the table
calls as not materialized (
    select * from staged
),
{%- endif %}

{#- the call's columns: an answered call carries them through the timeline's sort, so the
    flag needs no join back to the calls (20 s instead of 26 s for 9 M calls) -#}
{%- set call_columns = [
    'call_id', 'hotline', 'caller_no_key', 'city_code', 'call_start', 'ivr_end', 'queue_start',
    'answer_time', 'call_end', 'skill_group', 'agent_id', 'end_reason', 'load_id'
] %}
{#- an answered call asks whether a repeat followed; without caller, skill group or end it
    cannot have one (as SQL's NOT EXISTS would give) -#}
{%- set is_question = 'answer_time is not null and caller_no_key is not null'
    ~ ' and skill_group is not null and call_end is not null' %}
{#- a queued call is a possible repeat: only its caller and skill group matter -#}
{%- set queue_columns = [] %}
{%- for column in call_columns %}
{%- do queue_columns.append(column if column in ('caller_no_key', 'skill_group') else 'null') %}
{%- endfor %}

timeline as (
    -- questions: every answered call with a caller and skill group, at its end
    select
        call_end as event_time,
        0 as is_queued,
        {{ call_columns | join(', ') }}
    from calls
    where {{ is_question }}
    union all
    -- possible repeats: every queued call
    select
        queue_start as event_time,
        1 as is_queued,
        {{ queue_columns | join(', ') }}
    from calls
    where
        caller_no_key is not null
        and skill_group is not null
        and queue_start is not null
),

counted as (
    select
        *,
        sum(is_queued)
            over (
                same_caller range between current row and interval '48 hours' following
            )
        - sum(is_queued) over (same_caller range between current row and current row)
            as queued_after_end
    from timeline
    window same_caller as (partition by caller_no_key, skill_group order by event_time)
),

flagged as (
    select
        {{ call_columns | join(', ') }},
        queued_after_end
        - case
            when queue_start > event_time
                and queue_start <= event_time + interval '48 hours' then 1
            else 0
        end as other_calls_within_48h
    from counted
    where is_queued = 0
    union all
    -- every other call (no question: its flag needs no timeline)
    select
        {{ call_columns | join(', ') }},
        0 as other_calls_within_48h
    from calls
    where not ({{ is_question }})
),

final as (
    select
        call_id,
        hotline,
        caller_no_key,
        city_code,
        call_start,
        ivr_end,
        queue_start,
        answer_time,
        call_end,
        skill_group,
        agent_id,
        end_reason,
        queue_start is not null as is_agent_request,
        -- short abandon: hung up within 5 s of queueing, excluded from the agent indicators
        -- (call_end NULL: duration unknown, not a short abandon)
        coalesce(
            queue_start is not null and answer_time is null
            and call_end - queue_start <= interval '5 seconds', false
        ) as is_short_abandon,
        extract(epoch from answer_time - queue_start) as wait_seconds,
        (answer_time is not null and answer_time - queue_start <= interval '15 seconds') as is_answered_within_15s,
        -- answered calls only: no repeat call for the same skill group within 48 h (CC_FCR)
        case when answer_time is not null then other_calls_within_48h = 0 end as is_first_call_resolved,
        load_id,
        now() as refreshed_at
    from flagged
)

select * from final
