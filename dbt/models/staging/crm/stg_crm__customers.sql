with

source as (
    select * from {{ source('raw', 'crm_customer') }}
),

deduplicated as (
    -- one row per key and snapshot; within a snapshot a later delivery wins
    select distinct on (customer_id, _business_date) *
    from source
    order by customer_id asc, _business_date asc, _load_id desc, _record_no desc
),

final as (
    select
        d.customer_id,
        {{ pseudonymise('d.name') }} as name_key,
        {{ pseudonymise('d.id_no') }} as id_no_key,
        {{ pseudonymise('d.phone') }} as phone_key,
        d.city_code,
        d.segment,
        d.value_tier,
        d.join_date,
        d._business_date as snapshot_date,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
