{#- Every hotline call; answered calls carry whether the same caller queued again for the
    same skill group within 48 h after the call ended (CC_FCR 一次解决率):
        another call (any period, answered or not, other call_id) with the same non-NULL
        caller_no_key and skill_group and queue_start in (call_end, call_end + 48 h].
    Window-based, one sort, no self-join: per caller and skill group, a timeline holds every
    queued call at its queue_start (a possible repeat) and every answered call at its call_end
    (a question). For a question at t, sum over the RANGE frame [t, t + 48 h] minus its peers
    at exactly t counts the queue_starts in (t, t + 48 h]; the call's own queue_start is taken
    off when it lies in its own window (only in malformed data: queue_start after call_end).
    Answered calls without caller, skill group or call_end cannot have a repeat (as SQL's NOT
    EXISTS would give).
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
    select
        call_id,
        caller_no_key,
        skill_group
    from staged
    where {{ refreshed_since_last_build() }}
    union all
    -- the previous version of a changed or removed call (its old caller and skill group)
    select
        t.call_id,
        t.caller_no_key,
        t.skill_group
    from {{ this }} as t
    where
        t.call_id in (
            select s.call_id from staged as s
            where {{ refreshed_since_last_build('s.refreshed_at') }}
        )
    {%- if loads.stale %}
        or t.load_id in {{ load_list(loads.stale) }}
        {%- endif %}
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

-- not materialised: read three times, a materialised CTE would copy every call into a
-- spilling tuplestore and hash all of them for the final join; inlined, each reference scans
-- the table (in parallel) and the final join walks its call_id index
calls as not materialized (
    select * from staged
),
{%- endif %}

timeline as (
    -- possible repeats: every queued call
    select
        caller_no_key,
        skill_group,
        queue_start as event_time,
        1 as is_queued,
        null::text as asking_call_id,
        null::timestamptz as own_queue_start
    from calls
    where
        caller_no_key is not null
        and skill_group is not null
        and queue_start is not null
    union all
    -- questions: every answered call, at its end
    select
        caller_no_key,
        skill_group,
        call_end as event_time,
        0 as is_queued,
        call_id as asking_call_id,
        queue_start as own_queue_start
    from calls
    where
        answer_time is not null
        and caller_no_key is not null
        and skill_group is not null
        and call_end is not null
),

counted as (
    select
        asking_call_id,
        event_time,
        own_queue_start,
        sum(is_queued)
            over (
                same_caller range between current row and interval '48 hours' following
            )
        - sum(is_queued) over (same_caller range between current row and current row)
            as queued_after_end
    from timeline
    window same_caller as (partition by caller_no_key, skill_group order by event_time)
),

repeats as (
    select
        asking_call_id as call_id,
        queued_after_end
        - case
            when own_queue_start > event_time
                and own_queue_start <= event_time + interval '48 hours' then 1
            else 0
        end as other_calls_within_48h
    from counted
    where asking_call_id is not null
),

final as (
    select
        calls.call_id,
        calls.hotline,
        calls.caller_no_key,
        calls.city_code,
        calls.call_start,
        calls.ivr_end,
        calls.queue_start,
        calls.answer_time,
        calls.call_end,
        calls.skill_group,
        calls.agent_id,
        calls.end_reason,
        calls.load_id,
        case
            when calls.answer_time is not null
                then coalesce(repeats.other_calls_within_48h, 0) > 0
        end as has_repeat_call_within_48h,
        now() as refreshed_at
    from calls
    left join repeats on calls.call_id = repeats.call_id
)

select * from final
