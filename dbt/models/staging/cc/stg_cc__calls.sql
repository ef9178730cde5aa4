with

source as (
    select * from {{ source('raw', 'cc_call') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (call_id) *
    from source
    order by call_id, _load_id desc, _record_no desc
),

final as (
    select
        d.call_id,
        d.hotline,
        {{ pseudonymise('d.caller_no') }} as caller_no_key,
        d.city_code,
        d.call_start,
        d.ivr_end,
        d.queue_start,
        d.answer_time,
        d.call_end,
        d.skill_group,
        d.agent_id,
        d.end_reason,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
