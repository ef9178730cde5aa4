{#- One row per complaint with its handling limit (lookup seed time_limits, by source). -#}
with

complaints as (
    select * from {{ ref('stg_crm__complaints') }}
),

limits as (
    select * from {{ ref('time_limits') }}
    where indicator_code = 'CP_ONTIME'
),

final as (
    select
        complaints.complaint_id,
        complaints.customer_id,
        complaints.phone_key,
        complaints.city_code,
        complaints.source,
        complaints.category,
        complaints.accept_time,
        complaints.first_response_time,
        complaints.close_time,
        complaints.result,
        make_interval(secs => coalesce(by_source.limit_seconds, by_default.limit_seconds)) as handling_limit
    from complaints
    left join limits as by_source on complaints.source = by_source.condition_value
    left join limits as by_default on by_default.condition_value = '*'
)

select * from final
