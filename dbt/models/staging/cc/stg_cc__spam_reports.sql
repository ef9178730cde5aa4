with

source as (
    select * from {{ source('raw', 'cc_spam_report') }}
),

deduplicated as (
    -- rows with the same business key count once; the latest delivery wins (later
    -- business day, then later load, then later record): it carries the latest state
    select distinct on (report_id) *
    from source
    order by report_id asc, _business_date desc nulls last, _load_id desc, _record_no desc
),

final as (
    select
        d.report_id,
        {{ pseudonymise('d.reporter_no') }} as reporter_no_key,
        {{ pseudonymise('d.reported_no') }} as reported_no_key,
        d.city_code,
        d.received_time,
        d.handled_time,
        d.action,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
