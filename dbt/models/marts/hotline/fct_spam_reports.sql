{#- One row per spam-SMS report (垃圾短信举报) with its handling limit (time_limits seed). -#}
with

reports as (
    select * from {{ ref('stg_cc__spam_reports') }}
),

limits as (
    select * from {{ ref('time_limits') }}
    where indicator_code = 'SP_HANDLED_24H' and condition_value = '*'
),

final as (
    select
        reports.report_id,
        reports.reporter_no_key,
        reports.reported_no_key,
        reports.city_code,
        reports.received_time,
        reports.handled_time,
        reports.action,
        make_interval(secs => limits.limit_seconds) as handling_limit
    from reports
    left join limits on true
)

select * from final
