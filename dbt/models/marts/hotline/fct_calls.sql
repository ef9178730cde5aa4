{#- One row per hotline call (10000/10001), with the flags the hotline indicators use.
    Incremental: a build reads the upstream rows written since its own latest build (and the
    keys of replaced loads); see macros/incremental.sql. -#}
{{ incremental_config('CC_CALL', 'call_id') }}
{%- set loads = incremental_loads('CC_CALL') %}

with

calls as (
    select * from {{ ref('int_calls_with_repeat_call') }}
    {{ refreshed_rows_filter('call_id', loads) }}
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
        not has_repeat_call_within_48h as is_first_call_resolved,
        load_id,
        now() as refreshed_at
    from calls
)

select * from final
